"""Errors a user sees: one clear line each, never a traceback."""


class ReportError(Exception):
    """A file that cannot be read as an annual report; the message says why."""


class EmptyInput(ReportError):
    pass


class BinaryInput(ReportError):
    pass


class NotAReport(ReportError):
    pass
