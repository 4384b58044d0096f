# Varnish in front of a topicfeeds output: a starting point for operators.
#
# Feeds are kept five minutes, and topicfeeds drops a changed one at once with a
# PURGE request before it tells the WebSub hubs (config.yaml: cdn: {kind: http,
# endpoint: "http://127.0.0.1:6081"}), so a hub that fetches a feed as soon as it is
# told gets the new bytes, not the copy cached a minute ago.
#
# Change the two lines marked "yours" and run, for example:
#   varnishd -a :6081 -f /etc/varnish/topicfeeds.vcl -s malloc,256m
# Written for Varnish 6 and 7 (Debian's varnish package).

vcl 4.1;

# The origin: nginx serving the output folder with deploy/nginx.conf, or any web
# server (or a bucket's website endpoint) that serves it.
backend default {
    .host = "127.0.0.1";    # yours
    .port = "8080";         # yours
}

# Who may purge: the machine topicfeeds runs on. Add the address of the machine that
# runs `topicfeeds build` if it is another one; everyone else is refused with 405.
acl purgers {
    "localhost";
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Purging not allowed from this address"));
        }
        # Drops every variant of the URL (see Accept below); answers 200 "Purged"
        # whether a copy was held or not.
        return (purge);
    }
    # deploy/nginx.conf answers an Atom or RSS feed by whether Accept asks for text/html
    # (a browser gets the styled view) and says "Vary: Accept". Each reader sends its
    # own Accept; reduced to those two cases, Varnish keeps two copies of a feed
    # instead of one per reader, and nginx still tells them apart.
    if (req.http.Accept ~ "(?i)text/html") {
        set req.http.Accept = "text/html";
    } else {
        unset req.http.Accept;
    }
}

sub vcl_backend_response {
    # Five minutes, as the Cache-Control that deploy/nginx.conf and the bucket's
    # uploads give: purges make a change visible at once, this bounds the rest (a file
    # changed by hand, a purge that failed). An error of the origin is not kept.
    if (beresp.status < 500) {
        set beresp.ttl = 300s;
    }
}
