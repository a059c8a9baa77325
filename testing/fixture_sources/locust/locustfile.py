"""Locust load test of testing/load_target.py: GET /api/cart as fast as each user can."""

from locust import HttpUser, constant, task


class CartUser(HttpUser):
    wait_time = constant(0)

    @task
    def cart(self) -> None:
        self.client.get("/api/cart")
