<%@ page contentType="text/html; charset=UTF-8" session="false" trimDirectiveWhitespaces="true"
    import="java.nio.file.*,java.nio.charset.StandardCharsets,java.security.MessageDigest" %><%!
  // The sandbox's own stand-in for a product's per-node license page (Joget-style): a system key
  // unique to the node, an activation form, and an activated state kept in the node's directory.
  static String sha(String s) throws Exception {
    byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    StringBuilder b = new StringBuilder();
    for (byte x : d) b.append(String.format("%02X", x));
    return b.toString();
  }
  static String group(String hex, int n, int size) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) { if (i > 0) b.append('-'); b.append(hex, i * size, (i + 1) * size); }
    return b.toString();
  }
  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
%><%
  String base = System.getProperty("catalina.base");
  // license/machine-id stands in for the network card's MAC address: writing it changes the
  // system key at once, as a new MAC would change a Joget node's.
  Path machine = Paths.get(base, "license", "machine-id");
  String mac = Files.exists(machine)
      ? "|" + new String(Files.readAllBytes(machine), StandardCharsets.UTF_8).trim() : "";
  String systemKey = group(sha("clusterconsole-sandbox|" + System.getProperty("sandbox.jvmRoute")
      + "|" + base + mac), 4, 4);
  String expected = group(sha("clusterconsole-sandbox-license|" + systemKey), 5, 5);
  Path state = Paths.get(base, "license", "license.key");
  String message = "";
  if ("POST".equals(request.getMethod())) {
    String given = request.getParameter("license");
    given = given == null ? "" : given.trim().toUpperCase();
    if (given.equals(expected)) {
      Files.createDirectories(state.getParent());
      Files.write(state, (given + "\n").getBytes(StandardCharsets.UTF_8));
      message = "License activated.";
    } else {
      response.setStatus(400);
      message = "Invalid license key for this system key.";
    }
  }
  boolean activated = Files.exists(state)
      && new String(Files.readAllBytes(state), StandardCharsets.UTF_8).trim().equals(expected);
%><!DOCTYPE html>
<html><head><title>License - <%= esc(System.getProperty("sandbox.node")) %></title></head>
<body>
<h1>License</h1>
<p>Node: <span id="node"><%= esc(System.getProperty("sandbox.node")) %></span></p>
<p>System Key: <span id="system-key"><%= systemKey %></span></p>
<p>Status: <span id="status"><%= activated ? "activated" : "not activated" %></span></p>
<p id="message"><%= esc(message) %></p>
<form method="post" action="">
  <label for="license">License key</label>
  <input type="text" id="license" name="license" size="40">
  <input type="submit" value="Activate">
</form>
</body></html>
