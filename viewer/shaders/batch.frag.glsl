#version 330
// Batch shading, kept cheap for a CPU rasteriser: flat normals from screen-space derivatives
// (no normal upload), the key light and fill, the sky/ground term and a squared rim, with sqrt
// as the display gamma. Clay: one albedo. SKIN: per-vertex albedo and the key light wrapped
// past the terminator, as in lighting.glsl.
uniform vec3 albedo;
uniform vec3 key_direction;
uniform vec3 key_color;
uniform vec3 fill_direction;
uniform vec3 fill_color;
uniform vec3 rim_color;
uniform vec3 sky_color;
uniform vec3 ground_color;
uniform vec3 up_view;
in vec3 v_position;
#ifdef SKIN
in vec3 v_albedo;
const vec3 SCATTER_REACH = vec3(0.32, 0.12, 0.07);
#endif
out vec4 f_color;

void main() {
    vec3 n = normalize(cross(dFdx(v_position), dFdy(v_position)));
    vec3 to_eye = normalize(-v_position);
    float fill = 0.5 + 0.5 * dot(n, fill_direction);
#ifdef SKIN
    vec3 base = v_albedo;
    vec3 key = clamp((dot(n, key_direction) + SCATTER_REACH) / (1.0 + SCATTER_REACH), 0.0, 1.0);
#else
    vec3 base = albedo;
    float key = max(dot(n, key_direction), 0.0);
#endif
    vec3 light = mix(ground_color, sky_color, 0.5 + 0.5 * dot(n, up_view))
                 + key_color * key + fill_color * fill * fill;
    float edge = 1.0 - max(dot(n, to_eye), 0.0);
    f_color = vec4(sqrt(clamp(base * light + rim_color * edge * edge * 0.5, 0.0, 1.0)), 1.0);
}
