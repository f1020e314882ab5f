#!/bin/sh
# An example broker handler in POSIX sh, no JSON parser needed: the broker writes each
# request as one line with its fields in a fixed order, id first and payload last
#   {"id":7,"type":"post","user":"alice","server":"a","hops":0,"payload":{...}}
# so parameter expansion cuts out what this handler needs (plugins/broker/README.md).
#
# Type "post": payload a JSON object, e.g. {"to": "bob@b", "text": "hi"}. The handler adds
# "stamped" (the time, UTC) and "by" (the sender as user@server), then passes the message
# on to the handler of type "route" (sendHandler), which delivers it.
while IFS= read -r line; do
  id=${line#'{"id":'}; id=${id%%,*}
  rest=${line#*'"user":"'}; user=${rest%%\"*}
  rest=${line#*'"server":"'}; server=${rest%%\"*}
  payload=${line#*',"payload":'}; payload=${payload%\}}
  stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  case $payload in
    '{}')
      printf '{"id":%s,"command":"error","message":"post wants a payload with \\"to\\""}\n' "$id" ;;
    '{'*)
      printf '{"id":%s,"command":"sendHandler","type":"route","payload":{"stamped":"%s","by":"%s@%s",%s}\n' \
        "$id" "$stamp" "$user" "$server" "${payload#\{}" ;;
    *)
      printf '{"id":%s,"command":"error","message":"post wants a JSON object as payload"}\n' "$id" ;;
  esac
done
