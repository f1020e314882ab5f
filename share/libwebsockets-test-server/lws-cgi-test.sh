#!/bin/sh
# The CGI test of the Comlink v2 configuration (mounted at /testcgi): shows
# the request it was run for and, on POST, the first line of the body.
# What it writes on stderr shows up in tsws's log (TSWS_WARN_CGI_STDERR).
esc() { printf '%s' "$1" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'; }
row() { echo "<tr><td>$1</td><td>$(esc "$2")</td></tr>"; }

printf 'content-type: text/html\r\n\r\n'
echo "lws-cgi-test.sh: $REQUEST_METHOD $SCRIPT_NAME$PATH_INFO" >&2
echo '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>CGI test</title></head><body>'
echo '<h1>lws-cgi-test.sh</h1><table>'
row REQUEST_METHOD "$REQUEST_METHOD"
row SCRIPT_NAME "$SCRIPT_NAME"
row PATH_INFO "$PATH_INFO"
row QUERY_STRING "$QUERY_STRING"
row SERVER_SOFTWARE "$SERVER_SOFTWARE"
echo '</table>'
if [ "$REQUEST_METHOD" = "POST" ]; then
  read -r line
  echo "<p>POST body: <code>$(esc "$line")</code></p>"
fi
echo '</body></html>'
