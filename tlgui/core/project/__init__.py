"""Projects: recipes, history, the project file and script export."""
