"""What an operator sees of the running service: request ids, JSON logs, metrics."""

# the WSGI environ key where the request's route template is left for the access log
ROUTE_ENVIRON_KEY = "lindung.route"


def init_app(app) -> None:
    """Give every request an id echoed on its answer, count and time it, serve /metrics.

    Call after the database (metrics follow its pool). The id is echoed and the request
    counted when the answer is final (flask's request_finished signal), after every
    after_request function, so an answer replaced late (a failed commit's 409) has them too."""
    from flask import request, request_finished

    from api.observability import metrics, request_ids

    metrics.init_app(app)

    def finish(sender, response, **_):
        request_ids.echo(response)
        metrics.observe(response)
        request.environ[ROUTE_ENVIRON_KEY] = metrics.route_label()

    app.extensions["lindung.observability"] = finish  # a strong reference for the signal
    request_finished.connect(finish, app)
