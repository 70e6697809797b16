<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %><%--
  clusterconsole sandbox app: a request that stays in flight for ?ms= milliseconds (at most 120 s),
  so tests can see whether a stop waits for requests in flight (the context's unloadDelay).
--%><%
  long ms = 1000;
  try {
    ms = Math.max(0, Math.min(120000, Long.parseLong(request.getParameter("ms"))));
  } catch (RuntimeException e) {
    // keep the default
  }
  long end = System.currentTimeMillis() + ms;
  while (System.currentTimeMillis() < end) {
    Thread.sleep(Math.min(100, Math.max(1, end - System.currentTimeMillis())));
  }
  out.print("node=" + System.getProperty("sandbox.jvmRoute") + " slept=" + ms + "\n");
%>
