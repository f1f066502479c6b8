app_name = "requests_app"
urlpatterns: list = []
