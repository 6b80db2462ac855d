"""MkDocs hook: show the docstrings' Sphinx cross-references as plain code.

barenet's docstrings name other objects the Sphinx way (``:func:`load_dataset```,
``:class:`~barenet.train.callbacks.EarlyStopping```), which mkdocstrings passes through as text:
``:func:`` followed by the name in code. This hook drops the role and, as Sphinx does for a
leading ``~``, keeps only the last part of the dotted name.
"""

import re

_ROLE = re.compile(r":(?:func|meth|class|mod|data|attr|exc|obj):<code>(~?)([^<]*)</code>")


def _plain(match):
    tilde, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if tilde else name}</code>"


def on_page_content(html_text, page, **kwargs):
    return _ROLE.sub(_plain, html_text)
