"""What a run leaves behind besides its history and results: plots, the HTML timeline, the terminal summary."""
