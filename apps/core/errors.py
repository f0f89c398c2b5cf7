"""The one error type for rule violations (STYLE: HackSoft).

Services raise ``RuleViolation``; forms show it beside the field, the API answers 400 with the message.
Messages are user-facing Chinese and must never carry a full ID number or phone number.
"""


class RuleViolation(Exception):
    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [self.message]}
