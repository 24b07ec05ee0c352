"""The web pages served by the app: viewer voting, jury tablet, producer console, overlay."""
