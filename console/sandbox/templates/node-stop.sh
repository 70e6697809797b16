#!/bin/sh
# Stop sandbox node @@name (clusterconsole): sends SHUTDOWN to its port; catalina.sh waits for it.
export CATALINA_HOME=@@catalina_home CATALINA_BASE=@@catalina_base
exec "$CATALINA_HOME/bin/catalina.sh" stop "${1:-30}"
