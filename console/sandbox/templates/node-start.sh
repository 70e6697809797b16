#!/bin/sh
# Start sandbox node @@name (clusterconsole). The same script an operator's start command would be.
export CATALINA_HOME=@@catalina_home CATALINA_BASE=@@catalina_base
exec "$CATALINA_HOME/bin/catalina.sh" start
