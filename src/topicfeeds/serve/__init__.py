"""`topicfeeds serve`: a preview server over the output folder: what the files look like when served.

For previews on one machine, not for production (see deploy/nginx.conf). It serves
the right media types, ETag and Last-Modified with 304 answers, HEAD, gzip when asked,
never a dot-file or a path outside the folder, and answers a browser navigating to an
Atom or RSS file with an XML type it styles with the feed's stylesheet (Chromium shows
application/atom+xml as plain text and Firefox downloads it) while feed readers get
the registered type; `Vary: Accept` tells caches the two apart.

The files carry the config's `site.base_url`, the production address; served here, the
text files get this server's own address in its place, so that a browser or a feed
reader fed the OPML file stays on the preview. A fixed number of connections is served
at once (the others wait in the listen queue); a client has a few seconds to send a
request line and headers, which also ends an idle kept-alive connection; a client that
hangs up or goes silent is dropped without a word.
"""

from .answer import (
    REQUEST_SECONDS,
    Answer,
    Preview,
    WebSub,
    answer,
    check_folder,
    origin_of,
    request_body,
)
from .server import WORKERS, make_server, serve

__all__ = [
    "REQUEST_SECONDS",
    "WORKERS",
    "Answer",
    "Preview",
    "WebSub",
    "answer",
    "check_folder",
    "make_server",
    "origin_of",
    "request_body",
    "serve",
]
