"""A tiny HTTP client with retries."""

import time


class RetryPolicy:
    """How many times to retry and how long to wait between attempts."""

    def __init__(self, attempts: int = 3, backoff_seconds: float = 0.5) -> None:
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds

    def delay_for(self, attempt: int) -> float:
        """Exponential backoff: the wait grows with each failed attempt."""
        return self.backoff_seconds * (2**attempt)


def send_with_retries(request, transport, policy: RetryPolicy):
    """Send a request, retrying failed HTTP requests with exponential backoff."""
    last_error = None
    for attempt in range(policy.attempts):
        try:
            return transport.send(request)
        except ConnectionError as error:
            last_error = error
            time.sleep(policy.delay_for(attempt))
    raise last_error


def parse_status_line(line: str) -> tuple[str, int, str]:
    """Split an HTTP status line such as 'HTTP/1.1 404 Not Found' into its parts."""
    version, code, reason = line.split(" ", 2)
    return version, int(code), reason
