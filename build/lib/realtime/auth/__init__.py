"""Who a connection is: tokens, the middleware that checks them, deadlines, revocation, the token endpoint."""
