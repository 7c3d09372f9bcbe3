"""itbcoach: a camera coach for iliotibial band syndrome rehab."""

__version__ = "0.1.0"
