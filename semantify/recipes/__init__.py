"""Recipes: one JSON file per slider set we would ship, and the settings one build runs."""

from semantify.recipes.recipe import (MIN_SAMPLES, Quick, Recipe, check_samples, load_recipe,
                                      recipe_names, recipe_path, recipes_for_model, resolve)
from semantify.recipes.settings import BuildSettings

__all__ = ["MIN_SAMPLES", "BuildSettings", "Quick", "Recipe", "check_samples", "load_recipe",
           "recipe_names", "recipe_path", "recipes_for_model", "resolve"]
