"""The analysis stage: grading rules, the half-yearly adjustment, and the customer analyses."""
