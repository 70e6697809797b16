<%@ page contentType="text/plain; charset=UTF-8" session="true" trimDirectiveWhitespaces="true" %><%--
  clusterconsole sandbox app: counts hits in the session so replication and failover can be seen.
  The attribute is set again on every hit so DeltaManager replicates the change.
--%><%
  Integer count = (Integer) session.getAttribute("count");
  count = (count == null) ? 1 : count + 1;
  session.setAttribute("count", count);
  out.print("node=" + System.getProperty("sandbox.jvmRoute") + " session=" + session.getId()
      + " count=" + count + "\n");
%>
