"""The crm command line (placeholder until the commands land)."""
import click


@click.group()
def main():
    """客户档案流水线。"""
