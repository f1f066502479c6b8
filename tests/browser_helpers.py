"""Steps shared by the browser journeys."""

from tests.factories import PASSWORD


def sign_in(page, user, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a partner would, and wait for the home page."""
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("[data-partner-name]").wait_for()


def watch_csp(page) -> list[str]:
    """Collect the page's Content-Security-Policy violations (the list fills as it runs)."""
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return errors
