#version 330
// Grid lines (minor every grid_step metres, major every 5) and a soft blob shadow.
uniform vec2 floor_center;
uniform float floor_radius;
uniform float grid_step;
uniform vec2 shadow_center;
uniform vec2 shadow_radii;
uniform vec3 floor_color;
uniform vec3 line_color;
in vec2 v_xz;
out vec4 f_color;

float grid(vec2 cells) {
    vec2 distance = abs(fract(cells - 0.5) - 0.5) / fwidth(cells);
    return 1.0 - clamp(min(distance.x, distance.y), 0.0, 1.0);
}

void main() {
    float lines = max(0.22 * grid(v_xz / grid_step), 0.6 * grid(v_xz / (5.0 * grid_step)));
    vec2 offset = (v_xz - shadow_center) / shadow_radii;
    float shadow = 0.6 * exp(-2.0 * dot(offset, offset));
    float fade = 1.0 - smoothstep(0.35, 1.0, length(v_xz - floor_center) / floor_radius);
    vec3 color = mix(floor_color, line_color, lines) * (1.0 - shadow);
    f_color = vec4(color, fade * max(0.75, shadow + 0.75));
}
