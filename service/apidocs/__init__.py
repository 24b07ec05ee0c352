"""The API's own description: the OpenAPI document, its offline viewers, and the AsyncAPI
document of the leaderboard websocket.

Read `routes.py` first (how a route's security and errors follow from its declaration;
the api modules decorate their routes with `@documented`), then `openapi.py` (the
config `app.py` passes to Litestar), `viewers.py` (Swagger UI and ReDoc from vendored
files) and `asyncapi.py` (the websocket).
"""
