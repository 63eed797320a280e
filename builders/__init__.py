"""Hugging Face dataset builders of the project (installed as ``tvhighlights.builders``)."""
