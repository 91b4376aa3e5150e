"""Charts are static pictures: pygal's scripts are removed whichever XML library it uses."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from app.reports.charts import _without_scripts

SVG = ('<svg xmlns="http://www.w3.org/2000/svg"><script>a()</script>'
       '<g><script>b()</script><text>42</text></g></svg>')


def test_scripts_are_removed_with_the_standard_element_tree() -> None:
    root = ET.fromstring(SVG)
    result = _without_scripts(root)
    text = ET.tostring(result if result is not None else root, encoding="unicode")
    assert "script" not in text and "42" in text
