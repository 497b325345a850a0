"""The one way a miner refuses a request: an exception the app turns into a JSON error response."""

__all__ = ["HTTPRefusal"]


class HTTPRefusal(Exception):
    """A request refused with `status` and a one-line, caller-safe `detail`; `close` when the rest of
    its body is unwanted (closing the connection stops the server draining it)."""

    def __init__(self, status: int, detail: str, *, close: bool = False):
        """status: the HTTP status code (4xx/5xx). detail: one line, safe to show the caller (no key
        material, no payload). close: answer with `connection: close`."""
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.close = close
