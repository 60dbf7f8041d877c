#!/bin/sh
# busybox httpd runs this for every directory without an index.html:
# /, /ps/ and /ls/ (httpd redirects /ps to /ps/).
echo "Content-Type: text/plain"
echo
case "$REQUEST_URI" in
/ps*)
    echo "Processes this container can see:"
    ps -o pid,comm
    ;;
/ls*)
    echo "The container's root directory:"
    ls -la /
    ;;
*)
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = httpd ] && echo "${p#/proc/}"
    done | sort -n | head -n 1 | sed 's/^/The web server runs as PID /'
    echo "Try /ps and /ls."
    ;;
esac
