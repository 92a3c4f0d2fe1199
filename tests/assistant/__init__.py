"""The assistant app: profiles, the session object, minting, the admin, the commands brain."""
