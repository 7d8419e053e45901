"""Soát: data-quality monitor for Vietnam's education data."""

__version__ = "0.1.0"
