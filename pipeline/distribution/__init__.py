"""Distribution: the period's results by e-mail, each recipient seeing only what it is entitled to."""
