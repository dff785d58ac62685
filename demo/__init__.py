"""MoodDiary: the demo DiGA backend (a mood diary for patients) with switchable planted security flaws.

It is digasec's embedded default target and its ground truth. The harness never imports this package:
it starts it with ``python -m demo`` and talks HTTP. See ``demo/README.md``.
"""

__version__ = "1.4.0"
PRODUCT_NAME = "MoodDiary API"
