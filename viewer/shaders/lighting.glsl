// Three-point studio lighting in camera space (the camera looks down -Z), shared by all meshes.
// Colours are linear RGB; shade() returns display (sRGB-like) colour.
uniform vec3 key_direction;
uniform vec3 key_color;
uniform vec3 fill_direction;
uniform vec3 fill_color;
uniform vec3 rim_direction;
uniform vec3 rim_color;
uniform vec3 sky_color;
uniform vec3 ground_color;
uniform float specular;
uniform vec3 up_view;  // world +Y in camera space, for the sky/ground hemisphere term

vec3 shade(vec3 albedo, vec3 normal, vec3 position, float occlusion) {
    vec3 to_eye = normalize(-position);
    vec3 n = dot(normal, to_eye) < 0.0 ? -normal : normal;  // two-sided
    float facing = max(dot(n, to_eye), 0.0);
    // Ambient: sky from above, a darker bounce from the ground, dimmed near contact.
    vec3 ambient = mix(ground_color, sky_color, 0.5 + 0.5 * dot(n, up_view)) * occlusion;
    float key = max(dot(n, key_direction), 0.0);
    float fill = 0.5 + 0.5 * dot(n, fill_direction);  // wrapped, so shadows are never black
    float shine = pow(max(dot(n, normalize(key_direction + to_eye)), 0.0), 40.0) * key;
    float rim = pow(1.0 - facing, 3.0) * clamp(dot(n, rim_direction) + 0.6, 0.0, 1.0);
    vec3 color = albedo * (ambient + key_color * key * mix(0.6, 1.0, occlusion)
                           + fill_color * fill * fill)
                 + specular * key_color * shine + rim_color * rim * occlusion;
    color = color / (1.0 + 0.15 * color);  // soft shoulder instead of hard clipping
    return pow(clamp(color, 0.0, 1.0), vec3(1.0 / 2.2));
}
