#!/bin/sh
# Stop sandbox node @@name (clusterconsole): sends SHUTDOWN to its port; catalina.sh waits for it.
export CATALINA_HOME=@@catalina_home CATALINA_BASE=@@catalina_base
# It waits unloadDelay plus 30 s for the JVM to exit (without killing it) unless told otherwise.
exec "$CATALINA_HOME/bin/catalina.sh" stop "${1:-@@stop_wait}"
