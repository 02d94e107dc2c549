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
uniform vec3 up_view;  // world +Y in camera space, for the sky/ground hemisphere term
// The material (viewer/material.py): clay has subsurface 0.
uniform float specular;
uniform float roughness;
uniform float subsurface;

// How far past the terminator light scattered under skin reaches, per channel (red goes
// furthest): wrapped diffuse, the cheap stand-in for subsurface scattering.
const vec3 SCATTER_REACH = vec3(0.32, 0.12, 0.07);

// ``normal`` is the interpolated smooth normal of a front face. Near the silhouette it can
// point slightly away from the eye; it is bent just enough to face the eye, never flipped
// (a flipped normal faces into the body and shades the rim dark: speckles along edges).
vec3 facing_normal(vec3 normal, vec3 to_eye) {
    float away = dot(normal, to_eye);
    return away < 0.05 ? normalize(normal + to_eye * (0.05 - away)) : normal;
}

vec3 shade(vec3 albedo, vec3 normal, vec3 position, float occlusion, float scatter) {
    vec3 to_eye = normalize(-position);
    vec3 n = facing_normal(normal, to_eye);
    float facing = max(dot(n, to_eye), 0.0);
    // Ambient: sky from above, a darker bounce from the ground, dimmed near contact.
    vec3 ambient = mix(ground_color, sky_color, 0.5 + 0.5 * dot(n, up_view)) * occlusion;
    float cosine = dot(n, key_direction);
    vec3 wrap = subsurface * scatter * SCATTER_REACH;
    vec3 key = clamp((cosine + wrap) / (1.0 + wrap), 0.0, 1.0);
    float fill = 0.5 + 0.5 * dot(n, fill_direction);  // wrapped, so shadows are never black
    // Blinn-Phong highlight; the exponent matches a GGX lobe of this roughness. Skin adds a
    // Fresnel sheen towards grazing angles.
    float exponent = 2.0 / max(pow(roughness, 4.0), 1e-4) - 2.0;
    float shine = pow(max(dot(n, normalize(key_direction + to_eye)), 0.0), exponent)
                  * max(cosine, 0.0) * (1.0 + 2.0 * subsurface * pow(1.0 - facing, 5.0));
    float rim = pow(1.0 - facing, 3.0) * clamp(dot(n, rim_direction) + 0.6, 0.0, 1.0);
    vec3 color = albedo * (ambient + key_color * key * mix(0.6, 1.0, occlusion)
                           + fill_color * fill * fill)
                 + specular * key_color * shine + rim_color * rim * occlusion;
    color = color / (1.0 + 0.15 * color);  // soft shoulder instead of hard clipping
    return pow(clamp(color, 0.0, 1.0), vec3(1.0 / 2.2));
}
