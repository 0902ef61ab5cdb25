"""xxgk: read, check and compare China's 政府信息公开工作年度报告."""

from . import compiled

__version__ = "0.1.0"
PARSER_VERSION = "0.1.0"

compiled.install()  # the extraction's hot modules: compiled by mypyc, or their source (xxgk.compiled)
