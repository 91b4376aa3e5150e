"""`make load`: a generated bank under 50 concurrent people (Locust) on `stepwise serve`."""
