"""Test support: live servers, browsers, provider stand-ins, the SDK client, audio."""
