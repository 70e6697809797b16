<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %><%--
  clusterconsole sandbox app: always answers 500, so a node's error rate can be made to move.
--%><%
  response.setStatus(500);
  out.print("node=" + System.getProperty("sandbox.jvmRoute") + " error=500\n");
%>
