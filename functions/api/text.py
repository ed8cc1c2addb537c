"""Free-text fields a job carries: printable only.

A NUL or another control character in a subject or action is never what a client meant, and
it would fail (or be rewritten) far from the request: SES refuses it in a subject, log
queries split on it. Refused here, the client learns which field was wrong.
"""

import re
from typing import Annotated

from pydantic import AfterValidator

# Line breaks and tabs belong in a message body; no other C0/C1 control character does.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must be one line without control characters (NUL, line breaks, tabs)")
    return value


def _multiline(value: str) -> str:
    if _CONTROL_EXCEPT_LAYOUT.search(value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


SingleLineText = Annotated[str, AfterValidator(_single_line)]
MultilineText = Annotated[str, AfterValidator(_multiline)]
