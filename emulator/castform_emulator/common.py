"""Helpers the service add-ons share: AWS-style errors, ids, loopback host names, ETags.

Every endpoint the add-on hands out (a distribution's domain, a MediaPackage URL, a WebSocket
API's endpoint) is a name under LOCALSTACK_HOST (`localhost.localstack.cloud:<port>`), the way
LocalStack names Function URLs, so that a client resolving that suffix to 127.0.0.1 (castform's
CASTFORM_RESOLVE, curl's --resolve) reaches this emulator and nothing else.
"""
import hashlib
import random
import string
import threading
import time

from localstack import config
from localstack.aws.api import CommonServiceException

LOCK = threading.RLock()


def error(code: str, message: str, status: int = 400) -> CommonServiceException:
    return CommonServiceException(code, message, status_code=status)


def not_found(code: str, message: str) -> CommonServiceException:
    return error(code, message, 404)


def host_suffix() -> str:
    """`localhost.localstack.cloud:<port>`: the loopback name this emulator's endpoints live under."""
    return config.LOCALSTACK_HOST.host_and_port()


def digits(n: int) -> str:
    return str(random.randint(10 ** (n - 1), 10**n - 1))


def upper_id(n: int = 14) -> str:
    """CloudFront-style ids: upper-case letters and digits (E2QWRUHAPOMQZL)."""
    return "E" + "".join(random.choices(string.ascii_uppercase + string.digits, k=n - 1))


def lower_hex(n: int) -> str:
    return "".join(random.choices("0123456789abcdef", k=n))


def etag(value) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:14].upper()


def now() -> float:
    return time.time()
