# clusterconsole sandbox node @@name: sourced by catalina.sh.
JAVA_OPTS="$JAVA_OPTS -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.security.egd=file:/dev/./urandom -Dsandbox.node=@@name -Dsandbox.jvmRoute=@@jvm_route -Dwflow.home=@@shared"
CATALINA_PID="@@pid_file"
# What the sandbox variant adds (the frevvo variant's JGroups channel), when it adds anything.
if [ -r "$CATALINA_BASE/bin/setenv-variant.sh" ]; then . "$CATALINA_BASE/bin/setenv-variant.sh"; fi
