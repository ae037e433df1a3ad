"""Errors that carry a message meant for the artist, as opposed to internal failures."""


class BadRequest(ValueError):
    """The request itself is wrong (bad size, unknown attribute, empty sketch...).

    The message is shown to the artist as is, so it says what is wrong and what is accepted.
    """

    code = "bad_request"


class ModelUnavailable(RuntimeError):
    """A model's weights are missing or corrupt: the message says which file and how to get it back."""

    code = "model_unavailable"
