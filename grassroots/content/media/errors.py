"""The one exception the media pipeline raises for a file a person must fix."""


class MediaRejected(Exception):
    """An upload was refused; `message` is Vietnamese text telling the officer what to do."""

    def __init__(self, message: str, *, code: str = "rejected"):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
