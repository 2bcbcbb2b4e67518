"""`clearsight report`: where risk is accumulating, over the project's history."""
