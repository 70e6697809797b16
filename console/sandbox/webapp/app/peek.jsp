<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %><%--
  clusterconsole sandbox app: what this node holds of the caller's session, without creating or
  changing one (tests wait on it for a replicated copy to arrive before failing a session over).
--%><%
  jakarta.servlet.http.HttpSession held = request.getSession(false);
  Integer count = held == null ? null : (Integer) held.getAttribute("count");
  out.print("node=" + System.getProperty("sandbox.jvmRoute") + " session="
      + (held == null ? "none" : held.getId()) + " count=" + (count == null ? 0 : count) + "\n");
%>
