"""The platform operator's API: tenants (merchants) created and listed behind a credential of its own."""
