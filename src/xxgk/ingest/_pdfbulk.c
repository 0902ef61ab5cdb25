/* A PDFium page's characters, drawn objects, rules and angles in one call each, for xxgk.ingest.pdf.

   PDFium has no call giving every character's box or every object at once, and a ctypes call
   costs thousands of instructions (its arguments converted, its call prepared each time): a page
   of a report makes thousands of them (a character's box, an object and its type and bounds). These
   loops make the same PDFium calls from C, through the function addresses pypdfium2 loaded (no
   header or library of PDFium needed here), and build the same tuples the Python loops in pdf.py
   build, with the same double arithmetic on the same floats (compiled without contracting a*b+c
   into one rounding: -ffp-contract=off). pdf.py uses the Python loops where this is not built
   (no compiler) or XXGK_PURE=1; tests/test_pdf_bulk.py requires both to give the same. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

typedef int (*loose_box_fn)(void *textpage, int index, float *rect); /* FPDFText_GetLooseCharBox */
typedef void *(*page_object_fn)(void *page, int index);             /* FPDFPage_GetObject */
typedef void *(*form_object_fn)(void *form, unsigned long index);   /* FPDFFormObj_GetObject */
typedef int (*type_fn)(void *object);                               /* FPDFPageObj_GetType */
typedef int (*bounds_fn)(void *object, float *left, float *bottom, float *right, float *top);
typedef unsigned int (*unicode_fn)(void *textpage, int index);      /* FPDFText_GetUnicode */
typedef float (*angle_fn)(void *textpage, int index);               /* FPDFText_GetCharAngle */

#define PATH 2  /* FPDF_PAGEOBJ_PATH, IMAGE, FORM */
#define IMAGE 3
#define FORM 5

static int append_new(PyObject *list, PyObject *item) {
    if (item == NULL)
        return -1;
    int failed = PyList_Append(list, item);
    Py_DECREF(item);
    return failed;
}

static PyObject *box_tuple(double a, double b, double c, double d) {
    PyObject *t = PyTuple_New(4);
    if (t == NULL)
        return NULL;
    double v[4] = {a, b, c, d};
    for (int k = 0; k < 4; k++) {
        PyObject *f = PyFloat_FromDouble(v[k]);
        if (f == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, k, f);
    }
    return t;
}

PyDoc_STRVAR(chars_doc,
"chars(text, textpage, loose_box, height) -> [(ch, x0, top, x1, bottom, index)]\n\n"
"pdf.page_chars on a page whose display space is its page space upside down (no rotation, media\n"
"box at 0, 0): each character of `text` (PDFium's, by index) that is not white space, with its\n"
"loose box, when the box is finite and not inverted.");

static PyObject *chars(PyObject *self, PyObject *args) {
    PyObject *text;
    unsigned long long textpage, fn;
    double h;
    if (!PyArg_ParseTuple(args, "UKKd", &text, &textpage, &fn, &h))
        return NULL;
    loose_box_fn box = (loose_box_fn)(uintptr_t)fn;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    float rect[4] = {0, 0, 0, 0}; /* left, top, right, bottom */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch <= ' ' || Py_UNICODE_ISSPACE(ch) || ch == 0xFFFE)
            continue;
        box((void *)(uintptr_t)textpage, (int)i, rect);
        double x0 = rect[0], top = h - (double)rect[1], x1 = rect[2], bottom = h - (double)rect[3];
        if (!(x1 >= x0 && bottom >= top && isfinite(x0 + x1 + top + bottom)))
            continue;
        PyObject *t = PyTuple_New(6);
        if (t == NULL)
            goto fail;
        PyObject *items[6] = {PyUnicode_FromOrdinal(ch), PyFloat_FromDouble(x0), PyFloat_FromDouble(top),
                              PyFloat_FromDouble(x1), PyFloat_FromDouble(bottom), PyLong_FromSsize_t(i)};
        int bad = 0;
        for (int k = 0; k < 6; k++) {
            bad |= items[k] == NULL;
            PyTuple_SET_ITEM(t, k, items[k]); /* a NULL item is left NULL: the tuple is dropped */
        }
        if (bad) {
            Py_DECREF(t);
            goto fail;
        }
        if (append_new(out, t) < 0)
            goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

PyDoc_STRVAR(drawn_doc,
"drawn(parent, count, get, form, kind_of, matrix) -> ([(kind, object, matrix)], forms)\n\n"
"The first `count` objects of `parent` (a page, or a form XObject when `form`) that are paths or\n"
"pictures, and the forms among them in their place (for pdf._drawn to open), with `matrix`; and\n"
"how many forms there are.");

static PyObject *drawn(PyObject *self, PyObject *args) {
    unsigned long long parent, get, type_address;
    int count, form;
    PyObject *matrix;
    if (!PyArg_ParseTuple(args, "KiKpKO", &parent, &count, &get, &form, &type_address, &matrix))
        return NULL;
    type_fn kind_of = (type_fn)(uintptr_t)type_address;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    long forms = 0;
    for (int i = 0; i < count; i++) {
        void *obj = form ? ((form_object_fn)(uintptr_t)get)((void *)(uintptr_t)parent, (unsigned long)i)
                         : ((page_object_fn)(uintptr_t)get)((void *)(uintptr_t)parent, i);
        int kind = kind_of(obj);
        if (kind != PATH && kind != IMAGE && kind != FORM)
            continue;
        forms += kind == FORM;
        PyObject *address = obj == NULL ? Py_NewRef(Py_None) : PyLong_FromVoidPtr(obj);
        if (address == NULL)
            goto fail;
        PyObject *kind_number = PyLong_FromLong(kind);
        if (kind_number == NULL) {
            Py_DECREF(address);
            goto fail;
        }
        PyObject *t = PyTuple_New(3);
        if (t == NULL) {
            Py_DECREF(address);
            Py_DECREF(kind_number);
            goto fail;
        }
        PyTuple_SET_ITEM(t, 0, kind_number);
        PyTuple_SET_ITEM(t, 1, address);
        PyTuple_SET_ITEM(t, 2, Py_NewRef(matrix));
        if (append_new(out, t) < 0)
            goto fail;
    }
    return Py_BuildValue("(Nl)", out, forms);
fail:
    Py_DECREF(out);
    return NULL;
}

PyDoc_STRVAR(rules_doc,
"rules(drawn, bounds, thin, height, across, down, other) -> None\n\n"
"pdf.page_edges on a page whose display space is its page space upside down: each path of `drawn`\n"
"not in a form, thinner than `thin`, appended to `across` or `down` as the rule along its long side;\n"
"every other path handed in its turn to other(object, matrix).");

static PyObject *rules(PyObject *self, PyObject *args) {
    PyObject *items, *across, *down, *other;
    unsigned long long fn;
    double thin, h;
    if (!PyArg_ParseTuple(args, "O!KddO!O!O", &PyList_Type, &items, &fn, &thin, &h, &PyList_Type, &across,
                          &PyList_Type, &down, &other))
        return NULL;
    bounds_fn bounds = (bounds_fn)(uintptr_t)fn;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(items); k++) {
        PyObject *item = PyList_GET_ITEM(items, k);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
            PyErr_SetString(PyExc_TypeError, "drawn: (kind, object, matrix) tuples");
            return NULL;
        }
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(item, 0));
        if (kind == -1 && PyErr_Occurred())
            return NULL;
        if (kind != PATH)
            continue;
        PyObject *obj = PyTuple_GET_ITEM(item, 1), *matrix = PyTuple_GET_ITEM(item, 2);
        if (matrix == Py_None && obj != Py_None) {
            void *address = PyLong_AsVoidPtr(obj);
            if (address == NULL && PyErr_Occurred())
                return NULL;
            float l = 0, b = 0, r = 0, t = 0;
            bounds(address, &l, &b, &r, &t);
            double left = l, bottom = b, right = r, top = t;
            if (right - left <= thin || top - bottom <= thin) {
                double upper = h - top, lower = h - bottom;
                if (right - left >= lower - upper) {
                    if (right - left > 1) {
                        double y = (upper + lower) / 2;
                        if (append_new(across, box_tuple(left, y, right, y)) < 0)
                            return NULL;
                    }
                } else if (lower - upper > 1) {
                    double x = (left + right) / 2;
                    if (append_new(down, box_tuple(x, upper, x, lower)) < 0)
                        return NULL;
                }
                continue;
            }
        }
        Py_INCREF(item); /* held while Python runs: the list's item is only borrowed */
        PyObject *done = PyObject_CallFunctionObjArgs(other, obj, matrix, NULL);
        Py_DECREF(item);
        if (done == NULL)
            return NULL;
        Py_DECREF(done);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(sampled_angles_doc,
"sampled_angles(textpage, count, step, unicode, angle) -> [angle]\n\n"
"For pdf.text_rotation: the angle (radians, clockwise) of every `step`th character of the first\n"
"`count` that is not white space.");

static PyObject *sampled_angles(PyObject *self, PyObject *args) {
    unsigned long long textpage, unicode_address, angle_address;
    int count, step;
    if (!PyArg_ParseTuple(args, "KiiKK", &textpage, &count, &step, &unicode_address, &angle_address))
        return NULL;
    if (step < 1) {
        PyErr_SetString(PyExc_ValueError, "step must be at least 1");
        return NULL;
    }
    unicode_fn unicode = (unicode_fn)(uintptr_t)unicode_address;
    angle_fn angle = (angle_fn)(uintptr_t)angle_address;
    void *page = (void *)(uintptr_t)textpage;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    for (int i = 0; i < count; i += step) {
        unsigned int ch = unicode(page, i);
        if (ch > 0x10FFFF) { /* as chr() would */
            PyErr_SetString(PyExc_ValueError, "chr() arg not in range(0x110000)");
            goto fail;
        }
        if (Py_UNICODE_ISSPACE(ch))
            continue;
        if (append_new(out, PyFloat_FromDouble((double)angle(page, i))) < 0)
            goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

PyDoc_STRVAR(upright_doc,
"upright(chars, textpage, angle) -> [bool]\n\n"
"For pdf's word finder: whether each character (text, x0, top, x1, bottom, index) stands upright,\n"
"its angle within 0.01 of 0 (one not PDFium's, index < 0, does).");

static PyObject *upright(PyObject *self, PyObject *args) {
    PyObject *chars;
    unsigned long long textpage, angle_address;
    if (!PyArg_ParseTuple(args, "O!KK", &PyList_Type, &chars, &textpage, &angle_address))
        return NULL;
    angle_fn angle = (angle_fn)(uintptr_t)angle_address;
    Py_ssize_t n = PyList_GET_SIZE(chars);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *c = PyList_GET_ITEM(chars, k);
        if (!PyTuple_Check(c) || PyTuple_GET_SIZE(c) != 6) {
            PyErr_SetString(PyExc_TypeError, "chars: (text, x0, top, x1, bottom, index) tuples");
            Py_DECREF(out);
            return NULL;
        }
        long i = PyLong_AsLong(PyTuple_GET_ITEM(c, 5));
        if (i == -1 && PyErr_Occurred()) {
            Py_DECREF(out);
            return NULL;
        }
        int up = i < 0 || fabs((double)angle((void *)(uintptr_t)textpage, (int)i)) < 0.01;
        PyList_SET_ITEM(out, k, Py_NewRef(up ? Py_True : Py_False));
    }
    return out;
}

static PyMethodDef methods[] = {
    {"chars", chars, METH_VARARGS, chars_doc},
    {"drawn", drawn, METH_VARARGS, drawn_doc},
    {"rules", rules, METH_VARARGS, rules_doc},
    {"sampled_angles", sampled_angles, METH_VARARGS, sampled_angles_doc},
    {"upright", upright, METH_VARARGS, upright_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pdfbulk",
    "A PDFium page's characters, drawn objects, rules and angles in one call each (see _pdfbulk.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__pdfbulk(void) { return PyModule_Create(&module); }
