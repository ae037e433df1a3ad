"""AniSketch backend: the portrait engine, the models, and the server the Krita plugin talks to."""

__version__ = "0.1.0"
