"""The ring's one error type: every validation, build and load failure raises RingError."""


class RingError(ValueError):
    """Bad ring input (builder arguments, device fields, a corrupt ring file, ...).

    A ValueError so callers that validate user input can treat it like any other bad value; the
    message is one line meant for a human (the CLI prints it as is).
    """
