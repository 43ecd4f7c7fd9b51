"""People and their permissions on the web: passwords, sessions, login, the request gate, sockets."""
