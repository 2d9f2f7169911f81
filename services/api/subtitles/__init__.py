"""Subtitle tracks of lessons: WebVTT or SRT sidecars attached to a resource's video."""
